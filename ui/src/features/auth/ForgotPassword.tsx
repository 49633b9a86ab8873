import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import { ErrorNote, TextField, fieldError } from '../../app/controls';
import { Link } from '../../app/router';
import { AuthCard } from './AuthCard';

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const send = useMutation({ mutationFn: () => call(api.POST('/auth/forgot-password', { body: { email } })) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    send.mutate();
  };
  return (
    <AuthCard title="Reset your password">
      {send.isSuccess ? (
        <p role="status">If an account exists for {email}, a link to choose a new password is on its way. It works for 30 minutes.</p>
      ) : (
        <form onSubmit={submit}>
          <TextField label="Email" type="email" autoComplete="username" required value={email}
            onChange={(e) => setEmail(e.target.value)} error={fieldError(send.error, 'email')} />
          <ErrorNote error={send.error} />
          <button type="submit" className="primary" disabled={send.isPending}>Send reset link</button>
        </form>
      )}
      <p><Link href="/sign-in">Back to sign in</Link></p>
    </AuthCard>
  );
}

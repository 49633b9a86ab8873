import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { api, call, session } from '../../api/client';
import { ErrorNote, TextField, fieldError } from '../../app/controls';
import { Link, navigate, useLocation } from '../../app/router';
import { AuthCard } from './AuthCard';

// The page the reset e-mail links to: {App:PublicUrl}/reset-password?token=...
export function ResetPassword() {
  const { query } = useLocation();
  const token = query.get('token') ?? '';
  const [password, setPassword] = useState('');
  const reset = useMutation({
    mutationFn: () => call(api.POST('/auth/reset-password', { body: { token, password } })),
    onSuccess: () => {
      session.end();
      navigate('/sign-in?reset=1', { replace: true });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    reset.mutate();
  };
  return (
    <AuthCard title="Choose a new password">
      {!token && <p role="alert" className="error-note">This page needs the link from the e-mail. <Link href="/forgot-password">Ask for a new one</Link>.</p>}
      <form onSubmit={submit}>
        <TextField label="New password" type="password" autoComplete="new-password" required value={password}
          hint="8 characters or more." onChange={(e) => setPassword(e.target.value)} error={fieldError(reset.error, 'password')} />
        {fieldError(reset.error, 'token') && <p className="field-error">{fieldError(reset.error, 'token')}</p>}
        <ErrorNote error={reset.error} />
        <button type="submit" className="primary" disabled={reset.isPending || !token}>Set password</button>
      </form>
    </AuthCard>
  );
}

import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, session } from '../../api/client';
import { ErrorNote, TextField, fieldError } from '../../app/controls';
import { Link, navigate, useLocation } from '../../app/router';
import { AuthCard } from './AuthCard';

// Only a path of this site may be returned to after signing in.
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SignIn() {
  const { query } = useLocation();
  const queries = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => call(api.POST('/auth/login', { body: { email, password } })),
    onSuccess: (answer) => {
      session.start(answer.token);
      queries.clear();
      navigate(safeNext(query.get('next')), { replace: true });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signIn.mutate();
  };
  return (
    <AuthCard title="Sign in">
      {query.get('next') && <p className="muted">Sign in to continue where you were.</p>}
      {query.get('reset') && <p role="status">Your password was changed. Sign in with the new one.</p>}
      <form onSubmit={submit}>
        <TextField label="Email" type="email" autoComplete="username" required value={email}
          onChange={(e) => setEmail(e.target.value)} error={fieldError(signIn.error, 'email')} />
        <TextField label="Password" type="password" autoComplete="current-password" required value={password}
          onChange={(e) => setPassword(e.target.value)} error={fieldError(signIn.error, 'password')} />
        <ErrorNote error={signIn.error} />
        <button type="submit" className="primary" disabled={signIn.isPending}>Sign in</button>
      </form>
      <p><Link href="/register">Create an account</Link> · <Link href="/forgot-password">Forgot your password?</Link></p>
    </AuthCard>
  );
}

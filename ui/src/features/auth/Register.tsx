import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, session } from '../../api/client';
import { ErrorNote, TextField, fieldError } from '../../app/controls';
import { Link, navigate } from '../../app/router';
import { AuthCard } from './AuthCard';

export function Register() {
  const queries = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const register = useMutation({
    mutationFn: async () => {
      await call(api.POST('/auth/register', { body: { email, password } }));
      return call(api.POST('/auth/login', { body: { email, password } }));
    },
    onSuccess: (answer) => {
      session.start(answer.token);
      queries.clear();
      navigate('/', { replace: true });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    register.mutate();
  };
  return (
    <AuthCard title="Create an account">
      <form onSubmit={submit}>
        <TextField label="Email" type="email" autoComplete="username" required value={email}
          onChange={(e) => setEmail(e.target.value)} error={fieldError(register.error, 'email')} />
        <TextField label="Password" type="password" autoComplete="new-password" required value={password}
          hint="8 characters or more." onChange={(e) => setPassword(e.target.value)} error={fieldError(register.error, 'password')} />
        <ErrorNote error={register.error} />
        <button type="submit" className="primary" disabled={register.isPending}>Create account</button>
      </form>
      <p>Already registered? <Link href="/sign-in">Sign in</Link></p>
    </AuthCard>
  );
}

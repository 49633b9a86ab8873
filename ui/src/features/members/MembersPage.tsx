import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, ErrorNote, FormActions, Loading, SelectField, TextField, fieldError } from '../../app/controls';
import { navigate } from '../../app/router';
import { useProject } from '../projects/ProjectContext';

const roles = ['viewer', 'editor', 'owner'] as const;

export function MembersPage() {
  const { project, isOwner } = useProject();
  const members = useQuery({
    queryKey: ['members', project.id],
    queryFn: () => call(api.GET('/api/projects/{projectId}/members', { params: { path: { projectId: project.id } } })),
  });
  return (
    <>
      <h2>Members</h2>
      <p className="muted">Owners manage members, environments and keys; editors change flags, rules and segments; viewers read.</p>
      {isOwner && <Invite />}
      {members.isPending ? <Loading what="members" /> : <ErrorNote error={members.error} />}
      <table className="members">
        <thead><tr><th>E-mail</th><th>Role</th><th>Since</th><th></th></tr></thead>
        <tbody>{members.data?.map((m) => <MemberRow key={m.user_id} member={m} />)}</tbody>
      </table>
    </>
  );
}

function Invite() {
  const { project } = useProject();
  const queries = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string>('viewer');
  const invite = useMutation({
    mutationFn: () => call(api.POST('/api/projects/{projectId}/members', { params: { path: { projectId: project.id } }, body: { email, role } })),
    onSuccess: async () => { setEmail(''); await queries.invalidateQueries({ queryKey: ['members', project.id] }); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); invite.mutate(); };
  return (
    <form className="panel grid3" onSubmit={submit} aria-label="Invite a member">
      <TextField label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fieldError(invite.error, 'email')} />
      <SelectField label="Role" value={role} options={roles} onChange={(e) => setRole(e.target.value)} error={fieldError(invite.error, 'role')} />
      <FormActions submit="Invite" pending={invite.isPending} />
      <ErrorNote error={invite.error} />
      {invite.isSuccess && <p role="status">{invite.data.email} is invited as {invite.data.role}: a member now if they have an account, or once they register.</p>}
    </form>
  );
}

function MemberRow({ member }: { member: Schemas['MemberResponse'] }) {
  const { project, isOwner } = useProject();
  const queries = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: () => call(api.GET('/api/me')) });
  const self = me.data?.id === member.user_id;
  const path = { projectId: project.id, userId: member.user_id };
  const refresh = () => queries.invalidateQueries({ queryKey: ['members', project.id] });
  const change = useMutation({
    mutationFn: (role: string) => call(api.PUT('/api/projects/{projectId}/members/{userId}', { params: { path }, body: { role } })),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/projects/{projectId}/members/{userId}', { params: { path } })),
    onSuccess: async () => {
      if (self) {
        await queries.invalidateQueries({ queryKey: ['projects'] });
        navigate('/');
      } else await refresh();
    },
  });
  return (
    <tr>
      <td>{member.email}{self && ' (you)'}</td>
      <td>
        {isOwner ? (
          <select aria-label={`Role of ${member.email}`} value={member.role} onChange={(e) => change.mutate(e.target.value)}>
            {roles.map((r) => <option key={r}>{r}</option>)}
          </select>
        ) : <span className={`badge ${member.role}`}>{member.role}</span>}
      </td>
      <td>{new Date(member.added_at).toLocaleDateString()}</td>
      <td>
        {(isOwner || self) && (
          <ConfirmButton label={self ? 'Leave' : 'Remove'} confirmLabel={self ? 'Leave project' : 'Remove member'}
            question={self ? 'Leave this project?' : `Remove ${member.email}?`} onConfirm={() => remove.mutate()} />
        )}
        <ErrorNote error={change.error ?? remove.error} />
      </td>
    </tr>
  );
}

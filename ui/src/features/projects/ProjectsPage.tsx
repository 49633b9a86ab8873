import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { ConfirmButton, ErrorNote, FormActions, Loading, TextArea, TextField, fieldError } from '../../app/controls';
import { Link, navigate } from '../../app/router';

export const projectsQuery = { queryKey: ['projects'], queryFn: () => call(api.GET('/api/projects')) };

export function ProjectsPage() {
  const projects = useQuery(projectsQuery);
  const [creating, setCreating] = useState(false);
  return (
    <main className="page">
      <div className="page-head">
        <h1>Projects</h1>
        <button type="button" className="primary" onClick={() => setCreating(true)} aria-expanded={creating}>New project</button>
      </div>
      {creating && <NewProject onDone={() => setCreating(false)} />}
      {projects.isPending ? <Loading what="projects" /> : <ErrorNote error={projects.error} />}
      {projects.data?.length === 0 && <p className="muted">No projects yet. A project holds flags, environments and members.</p>}
      <ul className="cards">
        {projects.data?.map((p) => <ProjectCard key={p.id} project={p} />)}
      </ul>
    </main>
  );
}

function NewProject({ onDone }: { onDone: () => void }) {
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/projects', { body: { name, description: description || undefined } })),
    onSuccess: async (project) => {
      await queries.invalidateQueries({ queryKey: ['projects'] });
      onDone();
      navigate(`/projects/${project.id}/flags`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} aria-label="New project">
      <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(create.error, 'name')} autoFocus />
      <TextArea label="Description" value={description} onChange={(e) => setDescription(e.target.value)} error={fieldError(create.error, 'description')} />
      <ErrorNote error={create.error} />
      <FormActions submit="Create" pending={create.isPending} onCancel={onDone} />
    </form>
  );
}

function ProjectCard({ project }: { project: Schemas['ProjectResponse'] }) {
  const queries = useQueryClient();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(project.name);
  const refresh = () => queries.invalidateQueries({ queryKey: ['projects'] });
  const rename = useMutation({
    mutationFn: () => call(api.PUT('/api/projects/{projectId}', { params: { path: { projectId: project.id } }, body: { name } })),
    onSuccess: async () => { await refresh(); setRenaming(false); },
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/projects/{projectId}', { params: { path: { projectId: project.id } } })),
    onSuccess: refresh,
  });
  const owner = project.role === 'owner';
  return (
    <li className="card">
      {renaming ? (
        <form onSubmit={(e) => { e.preventDefault(); rename.mutate(); }} aria-label={`Rename ${project.name}`}>
          <TextField label="Name" value={name} onChange={(e) => setName(e.target.value)} error={fieldError(rename.error, 'name')} autoFocus />
          <ErrorNote error={rename.error} />
          <FormActions submit="Save" pending={rename.isPending} onCancel={() => setRenaming(false)} />
        </form>
      ) : (
        <>
          <h2><Link href={`/projects/${project.id}/flags`}>{project.name}</Link></h2>
          {project.description && <p>{project.description}</p>}
          <p className="muted">Your role: <span className={`badge ${project.role}`}>{project.role}</span></p>
          <div className="actions">
            {owner && <button type="button" onClick={() => setRenaming(true)} aria-label={`Rename ${project.name}`}>Rename</button>}
            {owner && <ConfirmButton label="Delete" confirmLabel="Delete project" question={`Delete ${project.name} with all its flags?`} onConfirm={() => remove.mutate()} />}
          </div>
          <ErrorNote error={remove.error} />
        </>
      )}
    </li>
  );
}

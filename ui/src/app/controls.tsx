import { useId, useState, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { ApiError } from '../api/client';

// Form controls with a visible label and their API error tied to them (aria-describedby).

type Shell = { label: string; error?: string; hint?: string; className?: string };

function useShell({ error, hint }: Shell) {
  const id = useId();
  const describedBy = [error && `${id}-error`, hint && `${id}-hint`].filter(Boolean).join(' ') || undefined;
  return { id, control: { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy } };
}

function ShellView({ label, error, hint, className, id, children }: Shell & { id: string; children: ReactNode }) {
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <small id={`${id}-hint`} className="hint">{hint}</small>}
      {error && <small id={`${id}-error`} className="field-error">{error}</small>}
    </div>
  );
}

export function TextField({ label, error, hint, className, ...input }: Shell & InputHTMLAttributes<HTMLInputElement>) {
  const { id, control } = useShell({ label, error, hint });
  return (
    <ShellView {...{ label, error, hint, className, id }}>
      <input {...control} {...input} />
    </ShellView>
  );
}

export function TextArea({ label, error, hint, className, ...input }: Shell & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const { id, control } = useShell({ label, error, hint });
  return (
    <ShellView {...{ label, error, hint, className, id }}>
      <textarea {...control} {...input} />
    </ShellView>
  );
}

export function SelectField({ label, error, hint, className, options, ...select }:
  Shell & SelectHTMLAttributes<HTMLSelectElement> & { options: readonly (string | readonly [value: string, text: string])[] }) {
  const { id, control } = useShell({ label, error, hint });
  return (
    <ShellView {...{ label, error, hint, className, id }}>
      <select {...control} {...select}>
        {options.map((o) => {
          const [value, text] = typeof o === 'string' ? [o, o] : o;
          return <option key={value} value={value}>{text}</option>;
        })}
      </select>
    </ShellView>
  );
}

export function Checkbox({ label, ...input }: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <label className="checkbox">
      <input type="checkbox" {...input} /> {label}
    </label>
  );
}

export function Switch({ checked, label, onChange, disabled }: { checked: boolean; label: string; onChange: (on: boolean) => void; disabled?: boolean }) {
  return (
    <button type="button" role="switch" aria-checked={checked} aria-label={label} disabled={disabled}
      className="switch" onClick={() => onChange(!checked)}>
      <span aria-hidden="true">{checked ? 'On' : 'Off'}</span>
    </button>
  );
}

// What went wrong, in words: the problem's detail (field messages sit next to their fields).
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? (error.problem.detail ?? error.problem.title ?? error.message) : error instanceof Error ? error.message : String(error);
  return <p role="alert" className="error-note">{text}</p>;
}

export function fieldError(error: unknown, name: string, exact = false): string | undefined {
  return error instanceof ApiError ? error.field(name, exact) : undefined;
}

// A destructive action asks once more, in place.
export function ConfirmButton({ label, confirmLabel, question, onConfirm, disabled }:
  { label: string; confirmLabel: string; question: string; onConfirm: () => void; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return <button type="button" className="danger" disabled={disabled} onClick={() => setAsking(true)}>{label}</button>;
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span>{question}</span>
      <button type="button" className="danger" onClick={() => { setAsking(false); onConfirm(); }}>{confirmLabel}</button>
      <button type="button" onClick={() => setAsking(false)}>Cancel</button>
    </span>
  );
}

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return <button type="button" onClick={copy} aria-label={label}>{copied ? 'Copied' : 'Copy'}</button>;
}

export function Loading({ what }: { what: string }) {
  return <p className="muted" role="status">Loading {what}…</p>;
}

// A form's submit button, and Cancel where the form can be closed.
export function FormActions({ submit, pending, onCancel }: { submit: string; pending?: boolean; onCancel?: () => void }) {
  return (
    <div className="actions">
      <button type="submit" className="primary" disabled={pending}>{submit}</button>
      {onCancel && <button type="button" onClick={onCancel}>Cancel</button>}
    </div>
  );
}

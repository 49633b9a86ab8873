import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

// The one way the UI talks to the service: typed by the service's OpenAPI document
// (npm run gen:api regenerates schema.d.ts), with the session's token on every call, problem
// details turned into ApiError, and a 401 sending the user to sign in and back.

export type Schemas = components['schemas'];

const tokenKey = 'flagservice.token';

// sessionStorage: a session ends with its tab, and nothing outlives the browser on a shared machine.
export const session = {
  token: () => sessionStorage.getItem(tokenKey),
  start: (token: string) => sessionStorage.setItem(tokenKey, token),
  end: () => sessionStorage.removeItem(tokenKey),
};

export type Problem = {
  title?: string;
  detail?: string;
  status?: number;
  errors?: Record<string, string[]>;
  [extension: string]: unknown;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `The service answered ${status}.`);
  }

  // The messages of one field, and of its nested fields unless exact is set ("serve" also takes
  // "serve.distribution[0].weight").
  field(name: string, exact = false): string | undefined {
    const errors = this.problem.errors ?? {};
    const messages = Object.entries(errors)
      .filter(([key]) => key === name || (!exact && (key.startsWith(`${name}.`) || key.startsWith(`${name}[`))))
      .flatMap(([key, list]) => list.map((m) => (key === name ? m : `${key.slice(name.length).replace(/^\./, '')}: ${m}`)));
    return messages.length ? messages.join('; ') : undefined;
  }
}

export function signInPath(next = location.pathname + location.search): string {
  return next && next !== '/' && !next.startsWith('/sign-in') ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in';
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    // An expired or revoked session: back to sign-in, keeping where the user was (once, however
    // many calls were in flight).
    if (response.status === 401 && new URL(request.url).pathname.startsWith('/api/') && location.pathname !== '/sign-in') {
      session.end();
      const target = signInPath();
      history.replaceState(null, '', target);
      dispatchEvent(new PopStateEvent('popstate'));
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

type Answer<T> = { data?: T; error?: unknown; response: Response };

// Awaits an openapi-fetch call: its data, or an ApiError carrying the problem details.
export async function call<T>(request: Promise<Answer<T>>): Promise<T> {
  const { data, error, response } = await request;
  if (!response.ok) {
    const problem = typeof error === 'object' && error !== null ? (error as Problem) : { detail: String(error ?? '') || undefined };
    throw new ApiError(response.status, problem);
  }
  return data as T;
}

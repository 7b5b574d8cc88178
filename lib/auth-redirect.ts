/** The sign-in URL that brings the visitor back to `path` afterwards. */
export function signInUrl(path: string): string {
  return `/sign-in?callbackUrl=${encodeURIComponent(path)}`;
}

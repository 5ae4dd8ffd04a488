/** Connection URLs as they may be printed: never with their password. */

/**
 * `url` with its password replaced by `***` (`postgres://user:***@host:5432/db`); a URL without
 * a password, or text that is not a URL, comes back as it is but for anything between `:` and
 * `@` before the host.
 */
export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '***';
    // URL escapes the asterisks of a password; they are shown as typed.
    return u.toString().replace('%2A%2A%2A', '***');
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
  }
}

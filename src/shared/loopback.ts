/**
 * Whether a URL stays on this machine: the one loopback test of the project. Pure (the URL
 * global only), so configuration, the vendor client and the AWS clients share it.
 */

/** Loopback host names as URL.hostname spells them: 127.0.0.0/8, localhost, [::1]. */
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** True when `url` is an absolute URL whose host is loopback; false for any other or unreadable URL. */
export function isLoopbackUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  return LOOPBACK_HOST.test(new URL(url).hostname);
}

/** True when `url` is plain http to a host other than loopback: the API key would cross the network in clear. */
export function isInsecureVendorUrl(url: string): boolean {
  return new URL(url).protocol === 'http:' && !isLoopbackUrl(url);
}

/**
 * The scheme and authority of the storage fake, whichever form STORAGE_EMULATOR_HOST takes
 * (the client wants an origin; the emulator scripts write host:port or a URL with the JSON API path).
 */
export function storageOrigin(storageEmulatorHost: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(storageEmulatorHost) ? storageEmulatorHost : `http://${storageEmulatorHost}`;
  return new URL(withScheme).origin;
}

// Which registries may be reached over plain HTTP: those named by --insecure or BERTH_INSECURE_REGISTRIES
// (comma separated), plus loopback ones, which docker also treats as insecure by default.
export function insecureRegistries(reference: string, extra: string[] = [], env: Record<string, string | undefined> = process.env): string[] {
  const out = new Set<string>([...extra, ...(env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean)]);
  const first = reference.split('/')[0] ?? '';
  const isHost = reference.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (isHost) {
    const host = first.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) out.add(first);
  }
  return [...out];
}

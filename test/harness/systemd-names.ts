/**
 * systemd's names for a container's scope, as tests address it on the bus
 * (tsnspawn itself no longer needs them: the helper is the scope's
 * controller and receives RequestStop whatever its path).
 */

/** systemd's object path of a unit: bus_label_escape of the unit name. */
export function unitObjectPath(unit: string): string {
  let out = '';
  for (let i = 0; i < unit.length; i++) {
    const c = unit[i]!;
    if (/[A-Za-z]/.test(c) || (/[0-9]/.test(c) && i > 0)) out += c;
    else out += '_' + c.charCodeAt(0).toString(16).padStart(2, '0');
  }
  return `/org/freedesktop/systemd1/unit/${out}`;
}

/** systemd's unit name escaping (unit_name_from_string-like) for "machine-NAME.scope". */
export function machineScopeName(name: string): string {
  const escaped = name.replace(/[^A-Za-z0-9:_.]/g, (c) => (c === '/' ? '-' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
  return `machine-${escaped}.scope`;
}

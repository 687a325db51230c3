// t/js/tap.mjs - TAP for the Node tests t/upload_page.t runs: one line a
// check, the plan printed last (after the checks, which TAP allows).
let count = 0;

export const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export function ok(cond, name, diag) {
  count++;
  console.log(`${cond ? 'ok' : 'not ok'} ${count} - ${name}`);
  if (!cond && diag !== undefined)
    console.log(`# ${String(typeof diag === 'string' ? diag : JSON.stringify(diag)).split('\n').join('\n# ')}`);
  return !!cond;
}

export function is(got, want, name) {
  return ok(same(got, want), name, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// Runs a group of checks; an exception is one failed check, and the
// groups after it still run.
export async function section(name, fn) {
  try {
    await fn();
  } catch (e) {
    ok(false, `${name}: no exception`, e?.stack ?? String(e));
  }
}

export function plan() {
  console.log(`1..${count}`);
}

// Fails and ends the run if it takes longer than ms.
export function watchdog(ms) {
  const t = setTimeout(() => {
    ok(false, `finished within ${Math.round(ms / 1000)} s`);
    plan();
    process.exit(1);
  }, ms);
  return () => clearTimeout(t);
}

export async function until(cond, ms, step = 20) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond())
      return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return !!cond();
}

// A small web-style application on node-postgres's pg.Pool, for t/022.
//
//   node pool_app.js HOST PORT USER SETTINGS_JSON [WORKERS]
//
// SETTINGS_JSON is what pool_governor.pool_config(tenant, 'node-postgres')
// returned, as {setting: value}, passed to pg.Pool as its own options.
// WORKERS loops (4) each run requests (pool.query of pg_sleep(0.1)) until
// standard input closes.  Refusals (error code 53300 or 57P03) print as "refusal:
// <text>", other failures as "error: <text>"; at the end "summary ok=N
// errors=E".
const { Pool } = require('pg');

const [host, port, user, json, nworkers] = process.argv.slice(2);
const s = JSON.parse(json);
const pool = new Pool({
  host, port: Number(port), user, database: 'postgres',
  application_name: 'pool-node-postgres',
  max: Number(s.max), min: Number(s.min),
  connectionTimeoutMillis: Number(s.connectionTimeoutMillis),
  idleTimeoutMillis: Number(s.idleTimeoutMillis),
});
// an idle client's connection ended by the server: the pool drops it
pool.on('error', (e) => console.log(`error: idle client: ${e.message}`));

let stopping = false;
let ok = 0;
let errors = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function worker() {
  while (!stopping) {
    try {
      await pool.query('SELECT pg_sleep(0.1)');
      ok++;
    } catch (e) {
      errors++;
      const text = `${e.code || ''} ${e.message}`.replace(/\n/g, ' | ');
      console.log(`${e.code === '53300' || e.code === '57P03' ? 'refusal' : 'error'}: ${text}`);
      await sleep(100);
    }
  }
}

(async () => {
  await pool.query('SELECT 1');
  const loops = Array.from({ length: Number(nworkers || 4) }, worker);
  console.log('ready');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    stopping = true;
    await Promise.all(loops);
    console.log(`summary ok=${ok} errors=${errors}`);
    await pool.end();
  });
})();

import { SCENARIOS } from './scenarios';
(async () => { for (const name of process.argv.slice(2)) { const t = Date.now(); const f = await SCENARIOS.find(x => x.name === name)!.run('ours'); console.log(name, Date.now() - t, 'ms', JSON.stringify(f)); } })();

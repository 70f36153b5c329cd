// run.mjs executes one state machine with aws-local-stepfunctions for
// asl.Run (runner.go), which passes it on stdin:
//
//   {"module": "<path of aws-local-stepfunctions' ESM build>",
//    "definition": {...}, "input": {...}, "context": {...},
//    "tasks": ["PageLevel", ...], "callback": "http://127.0.0.1:N/task/",
//    "waits": {"Wait": 0}, "retries": {"PageLevel": 0}}
//
// Every Task is overridden: its input (after Parameters) is POSTed to
// callback + state name, and the reply is the task's result (200) or its
// error (any other status, body {"errorType", "errorMessage"}). Nothing
// reaches AWS. The result goes to stdout as one JSON object:
//
//   {"status": "SUCCEEDED"|"FAILED", "output": ..., "error": "...", "cause": "...",
//    "events": [{"type": "StateEntered", "state": "PageLevel", "input": {...}}, ...]}
import { pathToFileURL } from 'node:url';

class TaskError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const cfg = await readStdin();
const { StateMachine } = await import(pathToFileURL(cfg.module).href);

const handlers = {};
for (const name of cfg.tasks) {
  handlers[name] = async (input) => {
    const res = await fetch(cfg.callback + encodeURIComponent(name), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    const text = await res.text();
    if (res.status !== 200) {
      let body = {};
      try { body = JSON.parse(text); } catch { body = { errorMessage: text }; }
      throw new TaskError(body.errorType || 'Lambda.Unknown', body.errorMessage || text);
    }
    return JSON.parse(text);
  };
}

const machine = new StateMachine(cfg.definition);
const execution = machine.run(cfg.input, {
  context: cfg.context,
  overrides: {
    taskResourceLocalHandlers: handlers,
    waitTimeOverrides: cfg.waits,
    retryIntervalOverrides: cfg.retries,
  },
});

const events = [];
const logged = (async () => {
  for await (const ev of execution.eventLogs) {
    events.push({ type: ev.type, state: ev.state?.name ?? '', input: ev.type === 'StateEntered' ? ev.state?.input : undefined });
  }
})();

let out;
try {
  const output = await execution.result;
  out = { status: 'SUCCEEDED', output };
} catch (err) {
  out = { status: 'FAILED', error: err?.name ?? 'Error', cause: String(err?.message ?? err) };
}
// The log ends with the execution; don't wait on it forever.
await Promise.race([logged, new Promise((r) => setTimeout(r, 1000))]);
out.events = events;
process.stdout.write(JSON.stringify(out) + '\n');

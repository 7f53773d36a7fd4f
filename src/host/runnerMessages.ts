// The runner runs user code, so what it sends is checked before the host trusts it.
import type { Envelope, FromRunner } from '../shared/protocol';

const TYPES = new Set<FromRunner['type']>(['hello', 'summary', 'started', 'atPhase', 'stepDone', 'state', 'failed', 'log', 'typeDiagnostics', 'ack']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function isTypeDiagnostic(d: unknown): boolean {
  return (
    isObject(d) &&
    typeof d.file === 'string' &&
    Number.isInteger(d.line) &&
    Number.isInteger(d.column) &&
    Number.isInteger(d.code) &&
    typeof d.message === 'string'
  );
}

export function parseRunnerEnvelope(raw: unknown): Envelope<FromRunner> | undefined {
  if (!isObject(raw) || typeof raw.id !== 'number' || !isObject(raw.body)) return undefined;
  if (raw.inReplyTo !== undefined && typeof raw.inReplyTo !== 'number') return undefined;
  const body = raw.body;
  if (typeof body.type !== 'string' || !TYPES.has(body.type as FromRunner['type'])) return undefined;
  switch (body.type) {
    case 'failed':
      if (!isObject(body.error) || typeof body.error.message !== 'string') return undefined;
      break;
    case 'stepDone':
      if (!isObject(body.entry) || typeof body.entry.step !== 'number') return undefined;
      break;
    case 'state':
      if (typeof body.state !== 'string' || typeof body.step !== 'number') return undefined;
      break;
    case 'started':
      if (typeof body.traceDir !== 'string' || !isObject(body.meta)) return undefined;
      break;
    case 'summary':
      if (!isObject(body.model) || !Array.isArray(body.model.layers)) return undefined;
      break;
    case 'log':
      if (typeof body.text !== 'string') return undefined;
      break;
    case 'typeDiagnostics':
      if (!Array.isArray(body.diagnostics) || !body.diagnostics.every(isTypeDiagnostic)) return undefined;
      break;
  }
  return raw as unknown as Envelope<FromRunner>;
}

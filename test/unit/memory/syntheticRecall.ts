/**
 * A deterministic synthetic conversation for recall tests and the benchmark:
 * user questions, assistant monologue + send_message calls, tool results with
 * code, file events. Prose and code vocabulary follow a Zipf-like curve with a
 * long tail of rare words; a few known needles are planted so searches have
 * answers that can be checked.
 */
import type { NewRecallRecord } from '../../../src/core/memory/recallStore';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROSE = (
  'the a to of and in is it that for you this with on be not are as can do we if have what how but why when ' +
  'file function code test error should would could there here need want use make work change fix add remove ' +
  'run build call return value type name project module import export class method line problem issue question ' +
  'think look try again check found please thanks okay sure maybe probably because after before where which ' +
  'server client request response cache timeout config settings memory index search result user data path ' +
  'branch commit merge review deploy release version update install package dependency script command terminal ' +
  'slow fast broken works failing passing green red flaky random order async await promise callback event loop'
).split(' ');

const PARTS = (
  'parse load save read write get set update create delete handle process build render format validate ' +
  'config settings user account session token cache request response buffer stream file path index query ' +
  'result error event handler manager service client server worker queue item list map node tree graph ' +
  'timeout retry limit count size offset page model view store state context options'
).split(' ');

const SYLLABLES = 'ka lo mi ner tas vor quin dex pha rul zen bo cri stam ulo wex fen gar hob ix jul'.split(' ');

function zipfPicker(words: string[], rnd: () => number, s = 1.05): () => string {
  const cum: number[] = [];
  let total = 0;
  for (let i = 0; i < words.length; i++) cum.push((total += 1 / Math.pow(i + 1, s)));
  return () => {
    const x = rnd() * total;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return words[lo]!;
  };
}

export interface Plants {
  rareWord: string;
  rareCount: number;
  identifier: string;
  identifierSnake: string;
  identifierCount: number;
  phrase: string;
  phraseCount: number;
}

export function syntheticConversation(n: number, agentId: string, seed: number): { records: NewRecallRecord[]; plants: Plants } {
  const rnd = prng(seed);
  const int = (k: number): number => Math.floor(rnd() * k);
  const tail: string[] = [];
  for (let i = 0; i < 30_000; i++) {
    let w = '';
    const len = 2 + int(3);
    for (let j = 0; j < len; j++) w += SYLLABLES[int(SYLLABLES.length)];
    tail.push(w);
  }
  const identifiers: string[] = [];
  for (let i = 0; i < 4000; i++) {
    const parts = [PARTS[int(PARTS.length)]!, PARTS[int(PARTS.length)]!];
    if (rnd() < 0.4) parts.push(PARTS[int(PARTS.length)]!);
    const style = int(3);
    identifiers.push(
      style === 0
        ? parts.map((p, k) => (k ? p[0]!.toUpperCase() + p.slice(1) : p)).join('')
        : style === 1
          ? parts.map((p) => p[0]!.toUpperCase() + p.slice(1)).join('')
          : parts.join('_'),
    );
  }
  const prose = zipfPicker(PROSE, rnd, 0.9);
  const rare = zipfPicker(tail, rnd, 1.1);
  const ident = zipfPicker(identifiers, rnd, 1.0);
  const word = (): string => {
    const x = rnd();
    return x < 0.72 ? prose() : x < 0.9 ? ident() : rare();
  };
  const sentence = (min: number, max: number): string => {
    const k = min + int(max - min);
    const w: string[] = [];
    for (let i = 0; i < k; i++) w.push(word());
    return w.join(' ') + (rnd() < 0.3 ? '?' : '.');
  };
  const codeLine = (): string => {
    const a = ident();
    const b = ident();
    const forms = [
      `const ${a} = await ${b}(${ident()}, { ${prose()}: ${int(1000)} });`,
      `if (!${a}) throw new Error('${sentence(3, 7)}');`,
      `export function ${a}(${b}: string): ${PARTS[int(PARTS.length)]} {`,
      `  return ${a}.${b}(${ident()});`,
      `// ${sentence(4, 10)}`,
    ];
    return forms[int(forms.length)]!;
  };

  const plants: Plants = {
    rareWord: 'quibblefrotz',
    rareCount: 0,
    identifier: 'parseWidgetManifest',
    identifierSnake: 'parse_widget_manifest',
    identifierCount: 0,
    phrase: 'open the settings panel',
    phraseCount: 0,
  };
  const identStyles = ['parseWidgetManifest', 'parse_widget_manifest', 'ParseWidgetManifest', 'parse widget manifest'];

  const start = Date.UTC(2024, 0, 1);
  const records: NewRecallRecord[] = [];
  let call = 0;
  for (let i = 0; i < n; i++) {
    const time = new Date(start + i * 37_000).toISOString();
    const slot = i % 4;
    let text = slot === 2 ? Array.from({ length: 3 + int(10) }, codeLine).join('\n') : sentence(8, 40);
    if (rnd() < 0.0004) {
      text += ` ${plants.rareWord}`;
      plants.rareCount++;
    }
    if (rnd() < 0.004) {
      text += ` ${identStyles[int(identStyles.length)]}`;
      plants.identifierCount++;
    }
    if (rnd() < 0.002) {
      text += ` Please ${plants.phrase} first.`;
      plants.phraseCount++;
    }
    if (slot === 0) {
      records.push({ agentId, time, kind: 'user', message: { role: 'user', content: text } });
    } else if (slot === 1) {
      const id = `call_${++call}`;
      records.push({
        agentId,
        time,
        kind: 'assistant',
        message: {
          role: 'assistant',
          content: sentence(5, 15),
          tool_calls: [{ id, type: 'function', function: { name: 'send_message', arguments: JSON.stringify({ message: text }) } }],
        },
      });
    } else if (slot === 2) {
      const id = `call_${++call}`;
      records.push({
        agentId,
        time,
        kind: 'assistant',
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id,
              type: 'function',
              function: { name: 'read_file', arguments: JSON.stringify({ path: `src/${ident()}.ts`, request_heartbeat: true }) },
            },
          ],
        },
      });
      records.push({
        agentId,
        time,
        kind: 'tool',
        message: { role: 'tool', tool_call_id: id, content: JSON.stringify({ status: 'OK', message: text, time }) },
      });
      i++;
    } else {
      records.push({
        agentId,
        time,
        kind: 'system_event',
        message: {
          role: 'user',
          content: JSON.stringify({ type: 'file_saved', message: `The user saved src/${ident()}.ts. ${text}`, time }),
        },
      });
    }
  }
  return { records: records.slice(0, n), plants };
}

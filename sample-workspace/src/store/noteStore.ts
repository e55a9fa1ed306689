import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { extractTags, type Note } from '../model';
import { readJson, writeJsonAtomic } from './atomicJson';

/** Notes live in memory and are saved to `<dataDir>/notes.json` after every change. */
export class NoteStore {
  private notes = new Map<string, Note>();
  private readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'notes.json');
  }

  async load(): Promise<void> {
    const list = await readJson<Note[]>(this.file, []);
    this.notes = new Map(list.map((n) => [n.id, n]));
  }

  list(): Note[] {
    return [...this.notes.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  get(id: string): Note | undefined {
    return this.notes.get(id);
  }

  async create(title: string, body: string): Promise<Note> {
    if (!title.trim()) throw new Error('A note needs a title');
    const now = new Date().toISOString();
    const note: Note = { id: randomUUID(), title: title.trim(), body, tags: extractTags(body), createdAt: now, updatedAt: now };
    this.notes.set(note.id, note);
    await this.save();
    return note;
  }

  async update(id: string, changes: Partial<Pick<Note, 'title' | 'body'>>): Promise<Note | undefined> {
    const note = this.notes.get(id);
    if (!note) return undefined;
    const body = changes.body ?? note.body;
    const updated: Note = { ...note, ...changes, body, tags: extractTags(body), updatedAt: new Date().toISOString() };
    this.notes.set(id, updated);
    await this.save();
    return updated;
  }

  async remove(id: string): Promise<boolean> {
    const existed = this.notes.delete(id);
    if (existed) await this.save();
    return existed;
  }

  private save(): Promise<void> {
    return writeJsonAtomic(this.file, this.list());
  }
}

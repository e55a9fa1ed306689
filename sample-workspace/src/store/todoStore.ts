import { randomUUID } from 'node:crypto';
import type { Priority, Todo } from '../model';

const PRIORITY_ORDER: Record<Priority, number> = { high: 0, normal: 1, low: 2 };

/** Todos are kept in memory only (they are meant to be short-lived). */
export class TodoStore {
  private readonly todos = new Map<string, Todo>();

  add(text: string, priority: Priority = 'normal', due: string | null = null): Todo {
    if (due !== null && !/^\d{4}-\d{2}-\d{2}$/.test(due)) throw new Error(`due must be YYYY-MM-DD, got "${due}"`);
    const todo: Todo = { id: randomUUID(), text, done: false, priority, due };
    this.todos.set(todo.id, todo);
    return todo;
  }

  complete(id: string): Todo | undefined {
    const todo = this.todos.get(id);
    if (todo) todo.done = true;
    return todo;
  }

  /** Open todos first, then by priority, then by due date (no date last). */
  ordered(): Todo[] {
    return [...this.todos.values()].sort(
      (a, b) =>
        Number(a.done) - Number(b.done) ||
        PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority] ||
        (a.due ?? '9999').localeCompare(b.due ?? '9999'),
    );
  }

  overdue(today: string): Todo[] {
    return this.ordered().filter((t) => !t.done && t.due !== null && t.due < today);
  }
}

// The lessons shipped in samples/ (samples/lessons.json: id, title, description, model and
// narrative paths relative to samples/): a quick pick, then the lesson's model file with its
// narrative rendered beside it.
import * as fs from 'node:fs';
import * as vscode from 'vscode';

export interface Lesson {
  id: string;
  title: string;
  description: string;
  /** Relative to samples/. */
  model: string;
  narrative?: string;
}

export function lessonsFile(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'samples', 'lessons.json');
}

function isLesson(v: unknown): v is Lesson {
  const l = v as Partial<Lesson>;
  return typeof l === 'object' && l !== null && typeof l.id === 'string' && typeof l.title === 'string' && typeof l.model === 'string';
}

export function readLessons(extensionUri: vscode.Uri): Lesson[] {
  const raw: unknown = JSON.parse(fs.readFileSync(lessonsFile(extensionUri).fsPath, 'utf8'));
  const list = Array.isArray(raw) ? raw : (raw as { lessons?: unknown[] }).lessons ?? [];
  return list.filter(isLesson).map((l) => ({ ...l, description: l.description ?? '' }));
}

export function lessonUri(extensionUri: vscode.Uri, relative: string): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'samples', ...relative.split('/'));
}

/** Asks which lesson to run; undefined when dismissed. `preselect` picks by id without asking. */
export async function pickLesson(extensionUri: vscode.Uri, preselect?: string): Promise<Lesson | undefined> {
  const lessons = readLessons(extensionUri);
  if (preselect) return lessons.find((l) => l.id === preselect);
  const picked = await vscode.window.showQuickPick(
    lessons.map((lesson, i) => ({ label: `${i + 1}. ${lesson.title}`, detail: lesson.description, lesson })),
    { title: 'Gradient Lens: Run Lesson', placeHolder: 'Pick a lesson: its code, its story and a live run open side by side', matchOnDetail: true },
  );
  return picked?.lesson;
}

/** Opens the lesson's model in the first column and its narrative rendered in the next one. */
export async function openLesson(extensionUri: vscode.Uri, lesson: Lesson): Promise<vscode.TextEditor> {
  const editor = await vscode.window.showTextDocument(lessonUri(extensionUri, lesson.model), {
    viewColumn: vscode.ViewColumn.One,
    preview: false,
  });
  if (lesson.narrative) {
    await vscode.commands.executeCommand('markdown.showPreviewToSide', lessonUri(extensionUri, lesson.narrative));
    // Back to the code, so the panel opens beside it rather than beside the narrative.
    await vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
  }
  return editor;
}

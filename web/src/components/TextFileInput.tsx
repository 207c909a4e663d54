// Text that may come from a file: drop the file on the zone, pick it with the file chooser, or paste
// the text. Files are read in the browser; nothing is uploaded until the form is sent.
import { useId, useRef, useState, type DragEvent } from "react";
import type { ControlProps } from "./Field";

interface TextFileInputProps {
  control: ControlProps;
  value: string;
  onChange: (text: string, fileName: string | null) => void;
  /** What the file is, for the drop zone ("a kubeconfig file"). */
  what: string;
  maxBytes: number;
  rows?: number;
  placeholder?: string;
  accept?: string;
}

export function TextFileInput({ control, value, onChange, what, maxBytes, rows = 10, placeholder, accept }: TextFileInputProps) {
  const fileRef = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const [dragging, setDragging] = useState(false);
  const [fileName, setFileName] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function take(file: File | undefined) {
    if (file === undefined) return;
    if (file.size > maxBytes) {
      setProblem(`${file.name} is larger than ${Math.round(maxBytes / 1024)} KiB.`);
      return;
    }
    try {
      const text = await readText(file);
      setProblem(null);
      setFileName(file.name);
      onChange(text, file.name);
    } catch {
      setProblem(`${file.name} could not be read.`);
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    void take(e.dataTransfer.files[0]);
  }

  const describedBy = [control["aria-describedby"], hintId].filter(Boolean).join(" ");
  return (
    <div
      className={`dropzone${dragging ? " dropzone-active" : ""}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <textarea
        {...control}
        aria-describedby={describedBy}
        className="mono"
        rows={rows}
        spellCheck={false}
        autoComplete="off"
        placeholder={placeholder}
        value={value}
        onChange={(e) => {
          setFileName(null);
          onChange(e.target.value, null);
        }}
      />
      <div className="dropzone-bar">
        <span id={hintId} className="muted">
          {fileName ? `Read from ${fileName}.` : `Drop ${what} here, paste its text, or`}
        </span>
        <button type="button" className="btn btn-secondary btn-sm" onClick={() => fileRef.current?.click()}>
          Choose file…
        </button>
        <input
          ref={fileRef}
          type="file"
          accept={accept}
          className="sr-only"
          tabIndex={-1}
          aria-label={`Choose ${what}`}
          onChange={(e) => {
            void take(e.target.files?.[0]);
            e.target.value = "";
          }}
        />
      </div>
      {problem && (
        <p className="field-error" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}

/** A file's text (FileReader works in every browser, and in test DOMs that lack Blob.text). */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === "string" ? reader.result : "");
    reader.onerror = () => reject(reader.error ?? new Error("unreadable"));
    reader.readAsText(file);
  });
}

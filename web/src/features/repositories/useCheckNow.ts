// "Check now": queue a check and follow it until it is done, from the event stream and, in case
// the stream is down, by asking for the check every second (bounded to two minutes).
import { useEffect, useRef, useState } from "react";
import { describeError } from "../../api/errors";
import { checkRepository, getCheck } from "../../api/repositories";
import type { RepositoryCheck } from "../../api/types";
import { useServerEvents } from "../../api/useServerEvents";

export type CheckNowState =
  | { phase: "idle" }
  | { phase: "queued" | "running"; checkId: string }
  | { phase: "done"; check: RepositoryCheck }
  | { phase: "error"; message: string };

const FOLLOW_MS = 120_000;

export function useCheckNow(repositoryId: string, onDone: (check: RepositoryCheck) => void) {
  const [state, setState] = useState<CheckNowState>({ phase: "idle" });
  const onDoneRef = useRef(onDone);
  useEffect(() => {
    onDoneRef.current = onDone;
  });
  const following = state.phase === "queued" || state.phase === "running" ? state.checkId : null;
  const [poke, setPoke] = useState(0);

  useServerEvents(["repository.checked"], (event) => {
    const d = event.data as Record<string, unknown>;
    if (following !== null && d.check_id === following) setPoke((n) => n + 1);
  });

  useEffect(() => {
    if (following === null) return;
    const ctl = new AbortController();
    const started = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = () => {
      getCheck(repositoryId, following, ctl.signal).then(
        (check) => {
          if (ctl.signal.aborted) return;
          if (check.status === "done") {
            setState({ phase: "done", check });
            onDoneRef.current(check);
          } else if (Date.now() - started > FOLLOW_MS) {
            setState({ phase: "error", message: "The check has not finished after two minutes; it will show up in the history when it does." });
          } else {
            if (check.status === "running") setState((s) => (s.phase === "queued" ? { phase: "running", checkId: following } : s));
            timer = setTimeout(look, 1000);
          }
        },
        (e: unknown) => {
          if (!ctl.signal.aborted) setState({ phase: "error", message: describeError(e) });
        },
      );
    };
    look();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [repositoryId, following, poke]);

  async function start() {
    setState({ phase: "idle" });
    try {
      const { check_id } = await checkRepository(repositoryId);
      setState({ phase: "queued", checkId: check_id });
    } catch (e) {
      setState({ phase: "error", message: describeError(e) });
    }
  }

  return { state, start, busy: following !== null };
}

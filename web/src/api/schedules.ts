// Schedule previews: the server validates a poll schedule and lists its next runs.
import { requestJson } from "./client";
import type { SchedulePreview, ScheduleSpec } from "./types";

export function previewSchedule(spec: ScheduleSpec, count = 5, signal?: AbortSignal): Promise<SchedulePreview> {
  return requestJson<SchedulePreview>("/schedules/preview", {
    query: { kind: spec.kind, interval: spec.interval, cron: spec.cron, time_zone: spec.time_zone, count },
    signal,
  });
}

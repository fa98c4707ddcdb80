import type { Logger } from "@shop/logging";

export interface LogRecord {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps what it was told, for assertions. */
export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: string) =>
    (fieldsOrMsg: unknown, msg?: string): void => {
      if (typeof fieldsOrMsg === "string") records.push({ level, msg: fieldsOrMsg, fields: {} });
      else records.push({ level, msg: msg ?? "", fields: fieldsOrMsg as Record<string, unknown> });
    };
  const logger = { fatal: at("fatal"), error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug"), trace: at("trace") } as Record<
    string,
    unknown
  >;
  logger.child = () => logger;
  return { logger: logger as unknown as Logger, records };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

import type { ConfigIssueCode } from './config.js';

/** Reads one environment variable (trimmed; undefined when unset or empty). */
export type ReadVariable = (name: string) => string | undefined;
/** Records one configuration problem. */
export type RaiseIssue = (code: ConfigIssueCode, path: string, message: string) => void;

/** A DNS name (labels of letters, digits and '-', separated by dots). */
export const DNS_NAME = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/;

/** Quotes a non-secret value for a message, bounded so that a pasted blob cannot flood the log. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

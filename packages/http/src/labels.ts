/**
 * The label value a capped /metrics label folds new values into, once its budget of distinct values is spent: the
 * server's session labels and the diagnostics API's service/cluster labels (docs/observability.md).
 */
export const OVERFLOW_LABEL = "other";

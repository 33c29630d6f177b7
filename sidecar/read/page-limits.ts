// How many records one page of `reader.find` holds: the default and the most it may ask for.

/** Records per page when `limit` is not given. */
export const DEFAULT_LIMIT = 50;
/** The most records one page may ask for; a larger `limit` is refused, not capped. */
export const MAX_LIMIT = 1000;

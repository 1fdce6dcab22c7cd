/** A failure to reach or use a PACS, with a message meant for the person who set up the destination. */
export class PacsError extends Error {
  override name = 'PacsError'
}

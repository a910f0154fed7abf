/** A file `sluice run` refuses: it exports no `job` function. */
export const name = 'nothing here'

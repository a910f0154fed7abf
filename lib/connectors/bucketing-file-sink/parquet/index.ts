export type { ParquetColumn, ParquetColumnType } from './parquet-columns.js'
export { type ParquetOptions, parquet } from './parquet-encoder.js'

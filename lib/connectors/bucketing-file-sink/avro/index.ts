export { type AvroContainerOptions, avroContainer } from './avro-container.js'

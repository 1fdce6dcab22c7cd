// @peculiar/x509, for this project's code to import instead of the package: its dependency injection
// (tsyringe) needs the Reflect metadata API installed before the package loads, whichever module
// imports it first.
import '@abraham/reflection'
export * from '@peculiar/x509'

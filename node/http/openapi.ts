// The OpenAPI 3.1 document of the REST API, written from the router's own route table so that it
// cannot drift from what the peer serves.
import type { Route } from './router.ts'

export function openApiDocument (routes: Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.path.replace(/:([a-zA-Z0-9]+)/g, '{$1}')
    const params = [...route.path.matchAll(/:([a-zA-Z0-9]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }))
    const success = String(route.successStatus ?? 200)
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      parameters: params,
      responses: {
        [success]: route.successStatus === 204
          ? { description: 'done' }
          : { description: 'success', content: { 'application/json': { schema: route.responseSchema ?? { type: 'object' } } } },
        400: { description: 'invalid input: `{ "error": "<what is wrong>" }`' },
        401: { description: 'missing or wrong X-API-Key' },
        404: { description: 'no such entity' },
        413: { description: 'request body too large' }
      }
    }
    if (route.public === true) operation.security = []
    if (route.requestSchema !== undefined) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: route.requestSchema } } }
    } else if (route.bodyKind === 'bytes') {
      operation.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } }
    }
    paths[path] ??= {}
    paths[path][route.method.toLowerCase()] = operation
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ScanHub peer API',
      version: '1.0.0',
      description: 'The local REST API of one ScanHub peer. Every request needs the header X-API-Key with the content of the file api-key in the peer\'s data directory. Reads and writes use this peer\'s copy of the lab\'s documents; the lab merges them.'
    },
    servers: [{ url: '/' }],
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    security: [{ apiKey: [] }],
    paths
  }
}

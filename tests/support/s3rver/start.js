// Starts @20minutes/s3rver on 127.0.0.1 for tests (tests/support/s3_server.hpp).
// Usage: node start.js --dir DIR --access-key KEY --secret-key SECRET [--port N]
// Credentials: s3rver verifies SigV4 against AWSAccount.registry (lib/models/account.js); the
// built-in S3RVER/S3RVER pair is revoked so only the given pair is accepted.
// Writes "PORT <n>\n" to file descriptor 3 (a pipe from the test) once it listens, then
// closes it; s3rver's own log (DRAK_S3RVER_VERBOSE=1) goes to stdout. Exits on SIGTERM/SIGINT.
'use strict'

const fs = require('node:fs')
const S3rver = require('@20minutes/s3rver')
const AWSAccount = require('@20minutes/s3rver/lib/models/account')

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  if (i === -1 || i + 1 >= process.argv.length) {
    if (fallback === undefined) {
      console.error(`start.js: missing --${name}`)
      process.exit(2)
    }
    return fallback
  }
  return process.argv[i + 1]
}

const directory = arg('dir')
const accessKey = arg('access-key')
const secretKey = arg('secret-key')
const port = Number(arg('port', '0'))

AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey)

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: !process.env.DRAK_S3RVER_VERBOSE,
  allowMismatchedSignatures: false,
})

server
  .run()
  .then((addr) => {
    fs.writeSync(3, `PORT ${addr.port}\n`)
    fs.closeSync(3)
  })
  .catch((err) => {
    console.error(`start.js: s3rver failed to start: ${err.stack || err}`)
    process.exit(1)
  })

const stop = () => process.exit(0)
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

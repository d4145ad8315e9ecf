'use strict';
// A Node-RED node: wire an "mqtt in" node subscribed to gatewayd/+/<gateway>/# (output: a
// Buffer) into it; it sends one message per record: readings, events, births, state, notices.
const { Consumer } = require('..');

module.exports = function register(RED) {
  function GatewaydDecode(config) {
    RED.nodes.createNode(this, config);
    const consumer = new Consumer();
    this.on('input', (msg, send, done) => {
      try {
        const payload = Buffer.isBuffer(msg.payload) ? msg.payload : Buffer.from(msg.payload);
        for (const rec of consumer.handle(msg.topic, payload)) {
          if (rec.type === 'refused' || rec.type === 'unknown_birth') this.warn(rec);
          send({ topic: rec.name || rec.type, payload: rec });
        }
        done();
      } catch (e) {
        done(e);
      }
    });
  }
  RED.nodes.registerType('gatewayd-decode', GatewaydDecode);
};

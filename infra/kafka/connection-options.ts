import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { Config } from '../../core/config.ts';

/**
 * The connection settings every kafkajs client of claimtrail uses: brokers, client id, TLS
 * (KAFKA_SSL, with the configured CA / client certificate, or the system CAs) and SASL
 * (SCRAM-SHA-256/512 or PLAIN). The password is handed to kafkajs only, never logged.
 */
export function kafkaConnectionOptions(config: Readonly<Config>, clientIdSuffix = ''): Pick<KafkaConfig, 'clientId' | 'brokers' | 'ssl' | 'sasl'> {
  const { ssl, sasl } = config.kafka;
  return {
    clientId: `${config.kafka.clientId}${clientIdSuffix}`,
    brokers: [...config.kafka.brokers],
    ...(ssl === undefined
      ? {}
      : {
          ssl: {
            rejectUnauthorized: true,
            ...(ssl.ca === undefined ? {} : { ca: [ssl.ca] }),
            ...(ssl.cert === undefined || ssl.key === undefined ? {} : { cert: ssl.cert, key: ssl.key }),
          },
        }),
    ...(sasl === undefined ? {} : { sasl: { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions }),
  };
}

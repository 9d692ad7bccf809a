import { describe, expect, it } from 'vitest';
import { hubEndpoints } from './server-url.js';

describe('hubEndpoints', () => {
  it.each([
    ['http://localhost:4000', 'http://localhost:4000/graphql', 'ws://localhost:4000/graphql'],
    ['http://localhost:4000/', 'http://localhost:4000/graphql', 'ws://localhost:4000/graphql'],
    ['http://127.0.0.1:4000/graphql', 'http://127.0.0.1:4000/graphql', 'ws://127.0.0.1:4000/graphql'],
    ['https://fleet.example.com/flotilla', 'https://fleet.example.com/flotilla/graphql', 'wss://fleet.example.com/flotilla/graphql'],
  ])('reads %s as %s and %s', (server, graphqlUrl, websocketUrl) => {
    expect(hubEndpoints(server)).toEqual({ graphqlUrl, websocketUrl });
  });

  it.each([
    ['not a url', 'is not a URL'],
    ['localhost:4000', 'only http:// and https://'],
    ['ftp://hub', 'only http:// and https://'],
    ['https://user:secret@hub', 'must not carry credentials'],
    ['https://hub/?a=1', 'must not have a query'],
  ])('refuses %s', (server, message) => {
    expect(() => hubEndpoints(server)).toThrow(message);
  });

  it('does not repeat a password it refuses', () => {
    expect(() => hubEndpoints('https://user:s3cret@hub')).not.toThrow(/s3cret/);
  });
});

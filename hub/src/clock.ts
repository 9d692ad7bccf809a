import { Injectable } from '@nestjs/common';

/** The time source of the hub. Services take `now` from here so that tests can set it. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

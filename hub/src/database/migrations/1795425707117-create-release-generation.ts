import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Written by hand: TypeORM entities cannot declare a free-standing sequence. Every release and removal
 * takes its generation from this one sequence, so generations only ever grow, even for an App that is
 * removed and later added again.
 */
export class CreateReleaseGeneration1795425707117 implements MigrationInterface {
  name = 'CreateReleaseGeneration1795425707117';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE SEQUENCE IF NOT EXISTS "release_generation" AS bigint START WITH 1`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SEQUENCE IF EXISTS "release_generation"`);
  }
}

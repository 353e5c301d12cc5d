// Written by hand from /work/wt/CONSOLE-API.md until the relay generates this file with ts-rs.

export type BusinessHours = {
  mon: string;
  tue: string;
  wed: string;
  thu: string;
  fri: string;
  sat: string;
  sun: string;
  holidays: Array<string>;
};

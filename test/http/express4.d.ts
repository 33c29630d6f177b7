// The `express4` alias (Express 4 installed next to 5) typed with Express's own typings: the
// API these tests use is the same in both.
declare module "express4" {
  import express from "express";
  export default express;
}

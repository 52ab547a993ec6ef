// Filled in by its own module; see the files beside this one.
export {};

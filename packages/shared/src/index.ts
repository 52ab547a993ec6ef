// Public surface of @flysnap/shared. Each area lives in its own folder; see DESIGN.md.
export {};

import AgentCLI

// `tock-agent`: the agent alone (`tock agent` runs it when it lies beside `tock`). It links the collectors, the
// shipper and the configuration reader, not the engine's server, storage or alerting, so that the process that
// collects on every host stays small.
await AgentCommand.main()

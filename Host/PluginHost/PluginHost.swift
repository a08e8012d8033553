/// The plugin host: child processes (UDFs, collectors, notifiers) supervised over stdio.

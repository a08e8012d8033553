/// The Swift SDK for writing UDFs: an agent that speaks Kapacitor's UDF protocol over stdio.

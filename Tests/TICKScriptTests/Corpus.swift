/// Scripts shared by the formatter and round-trip tests.
enum Corpus {
    static let topScoresMessy = """

        \t\t\t// Define a result that contains the most recent score per player.
        var topPlayerScores = stream
            |from().measurement('scores')
            // Get the most recent score for each player per game.
        // Not likely that a player is playing two games but just in case.
        .groupBy('game', 'player')
            |window()
                // keep a buffer of the last 11s of scores
                // just in case a player score hasn't updated in a while
                .period(11s)
                // Emit the current score per player every second.
        .every(1s)
                // Align the window boundaries to be on the second.
        .align()
            |last('value')

        // Calculate the top 15 scores per game
        var topScores = topPlayerScores
            |groupBy('game')
            |top(15, 'last', 'player')

        // Expose top scores over the HTTP API at the 'top_scores' endpoint.
        // Now your app can just request the top scores from Kapacitor
        // and always get the most recent result.
        //
        // http://localhost:9092/api/v1/top_scores/top_scores
        topScores
           |httpOut('top_scores')

        // Sample the top scores and keep a score once every 10s
        var topScoresSampled = topScores
            |sample(10s)

        // Store top fifteen player scores in InfluxDB.
        topScoresSampled
            |influxDBOut()
                .database('game')
                .measurement('top_scores')

        // Calculate the max and min of the top scores.
        var max = topScoresSampled
            |max('top')
        var min = topScoresSampled
            |min('top')

        // Join the max and min streams back together and calculate the gap.
        max|join(min)
                .as('max', 'min')
            // calculate the difference between the max and min scores.
        |eval(lambda: "max.max" - "min.min", lambda: "max.max", lambda: "min.min")
                .as('gap', 'topFirst', 'topLast')
            // store the fields: gap, topFirst, and topLast in InfluxDB.
        |influxDBOut()
                .database('game')
                .measurement('top_scores_gap')

        """

    static let topScoresFormatted = """
        // Define a result that contains the most recent score per player.
        var topPlayerScores = stream
            |from()
                .measurement('scores')
                // Get the most recent score for each player per game.
                // Not likely that a player is playing two games but just in case.
                .groupBy('game', 'player')
            |window()
                // keep a buffer of the last 11s of scores
                // just in case a player score hasn't updated in a while
                .period(11s)
                // Emit the current score per player every second.
                .every(1s)
                // Align the window boundaries to be on the second.
                .align()
            |last('value')

        // Calculate the top 15 scores per game
        var topScores = topPlayerScores
            |groupBy('game')
            |top(15, 'last', 'player')

        // Expose top scores over the HTTP API at the 'top_scores' endpoint.
        // Now your app can just request the top scores from Kapacitor
        // and always get the most recent result.
        //
        // http://localhost:9092/api/v1/top_scores/top_scores
        topScores
            |httpOut('top_scores')

        // Sample the top scores and keep a score once every 10s
        var topScoresSampled = topScores
            |sample(10s)

        // Store top fifteen player scores in InfluxDB.
        topScoresSampled
            |influxDBOut()
                .database('game')
                .measurement('top_scores')

        // Calculate the max and min of the top scores.
        var max = topScoresSampled
            |max('top')

        var min = topScoresSampled
            |min('top')

        // Join the max and min streams back together and calculate the gap.
        max
            |join(min)
                .as('max', 'min')
            // calculate the difference between the max and min scores.
            |eval(lambda: "max.max" - "min.min", lambda: "max.max", lambda: "min.min")
                .as('gap', 'topFirst', 'topLast')
            // store the fields: gap, topFirst, and topLast in InfluxDB.
            |influxDBOut()
                .database('game')
                .measurement('top_scores_gap')

        """

    static let printerDemoMessy = """
        dbrp "printer"."autogen"
        var alpha=0.001
        var data = stream|from().measurement('temperatures')
          |window().period(5m).every(5m)
        data
          @tTest().field('hotend').size(3600).alpha(alpha)
          |alert().id('hotend').crit(lambda:"pvalue"<alpha).log('/tmp/hotend_failure.log')
        // the same for 'bed' and 'air'
        data@tTest().field('bed').size(3600).alpha(alpha)|alert().id('bed')
            .crit(lambda: "pvalue" < alpha).log('/tmp/bed_failure.log')
        """

    static let printerDemo = """
        dbrp "printer"."autogen"

        var alpha = 0.001

        var data = stream
            |from()
                .measurement('temperatures')
            |window()
                .period(5m)
                .every(5m)

        data
            @tTest()
                .field('hotend')
                .size(3600)
                .alpha(alpha)
            |alert()
                .id('hotend')
                .crit(lambda: "pvalue" < alpha)
                .log('/tmp/hotend_failure.log')

        // the same for 'bed' and 'air'
        data
            @tTest()
                .field('bed')
                .size(3600)
                .alpha(alpha)
            |alert()
                .id('bed')
                .crit(lambda: "pvalue" < alpha)
                .log('/tmp/bed_failure.log')

        """

    /// Kapacitor documentation examples, written in canonical layout.
    static let canonical: [String] = [
        printerDemo,
        topScoresFormatted,
        """
        dbrp "telegraf"."autogen"

        stream
            |from()
                .measurement('cpu')
                .groupBy('host')
                .where(lambda: "cpu" == 'cpu-total')
            |alert()
                .id('{{ index .Tags "host" }}/cpu')
                .message('{{ .ID }} is {{ .Level }} value: {{ index .Fields "usage_idle" }}')
                .warn(lambda: "usage_idle" < 20)
                .crit(lambda: "usage_idle" < 10)
                .stateChangesOnly()
                .log('/tmp/cpu_alert.log')

        """,
        """
        var errors = stream
            |from()
                .measurement('errors')
                .groupBy(*)

        var requests = stream
            |from()
                .measurement('requests')
                .groupBy(*)

        errors
            |join(requests)
                .as('errors', 'requests')
                .tolerance(1s)
                .fill(0.0)
            |eval(lambda: "errors.value" / "requests.value")
                .as('rate')
                .keep('rate', 'errors.value')
            |influxDBOut()
                .database('derived')
                .measurement('error_rate')

        """,
        """
        // Which measurement to consume
        var measurement string

        // Optional where filter
        var where_filter = lambda: TRUE

        // Optional list of group by dimensions
        var groups = [*]

        // Which field to process
        var field string

        // Warning criteria, has access to 'mean' field
        var warn lambda

        // Critical criteria, has access to 'mean' field
        var crit lambda

        // How much data to window
        var window = 5m

        // The slack channel for alerts
        var slack_channel = '#alerts'

        stream
            |from()
                .measurement(measurement)
                .where(where_filter)
                .groupBy(groups)
            |window()
                .period(window)
                .every(window)
            |mean(field)
            |alert()
                .warn(warn)
                .crit(crit)
                .slack()
                .channel(slack_channel)

        """,
        """
        var data = batch
            |query('''
                SELECT mean("value")
                FROM "telegraf"."autogen"."cpu"
            ''')
                .period(1h)
                .every(10m)
                .groupBy(time(1m), 'host')
                .fill('none')

        data
            |eval(lambda: sigma("mean") > 3.5 OR "mean" < -1.0, lambda: unixNano("time") % 60000000000)
                .as('anomalous', 'minute')
                .tags('anomalous')
            |where(lambda: !("host" =~ /^test-[0-9]+$/) AND "host" !~ /staging\\/.*/)
            |deadman(100.0, 10m)
            |shift(-1h)
            |httpOut('cpu')

        """,
        """
        stream
            |from()
                .database('telegraf')
                .retentionPolicy('autogen')
                .measurement('disk')
            |eval(lambda: float("used") / float("total") * 100.0, lambda: if("free" < 1000000, 'low', 'ok'))
                .as('used_percent', 'state')
            |default()
                .field('used_percent', 0.0)
                .tag('kind', 'disk')
            |log()
                .level('DEBUG')
                .prefix('disk')

        """,
    ]
}

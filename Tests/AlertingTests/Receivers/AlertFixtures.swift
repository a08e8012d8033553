import Engine
import TockModel

/// Alert events as the alert node makes them, for sending to real receivers.
enum AlertFixtures {
    static func event(message: String = "serverA cpu is CRITICAL", details: String = "<b>cpu</b> is 99.5",
                      id: String = "cpu:host=serverA", level: AlertLevel = .critical) -> AlertEvent {
        AlertEvent(id: id, message: message, details: details, time: 1_451_606_410_500_000_000, duration: 0, level: level,
                   previousLevel: .ok, recoverable: true,
                   data: .point(Point(name: "cpu", tags: ["host": "serverA"], fields: ["value": .double(99.5)], time: 1_451_606_410_500_000_000)),
                   taskName: "cpu_alert", name: "cpu", tags: ["host": "serverA"], fields: ["value": .double(99.5)])
    }
}

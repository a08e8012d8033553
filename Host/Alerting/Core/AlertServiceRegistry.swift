import Engine

/// Every alert service Tock knows, by kind. A service is added here once its folder under `Services/` exists.
public enum AlertServiceRegistry {
    /// The service types, by topic-handler kind.
    public static let kinds: [any AlertServiceKind.Type] = [
        SlackService.self, TeamsService.self, DiscordService.self, TelegramService.self,
        PagerDutyService.self, PagerDuty2Service.self, VictorOpsService.self, PushoverService.self,
        OpsGenieService.self, OpsGenie2Service.self,
        SMTPService.self,
        MQTTService.self,
        SNMPTrapService.self,
        KafkaService.self,
    ]
}

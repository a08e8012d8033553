import Engine

/// Every alert service Tock knows, by kind. A service is added here once its folder under `Services/` exists.
public enum AlertServiceRegistry {
    /// The service types, by topic-handler kind.
    public static let kinds: [any AlertServiceKind.Type] = [
        LogService.self,
        TCPService.self,
        ExecService.self,
        SlackService.self, TeamsService.self, DiscordService.self, TelegramService.self,
        PagerDutyService.self, PagerDuty2Service.self, VictorOpsService.self, PushoverService.self,
        OpsGenieService.self, OpsGenie2Service.self,
        SMTPService.self,
        MQTTService.self,
        SNMPTrapService.self,
        HTTPPostService.self,
        SensuService.self,
        AlertaService.self,
        BigPandaService.self,
        ServiceNowService.self,
        ZenossService.self,
        TalkService.self,
        KafkaService.self,
    ]
}

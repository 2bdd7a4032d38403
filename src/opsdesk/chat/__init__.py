"""Live chat: a widget in the portal (embeddable elsewhere), chats queued for agents on shift,
messages and typing over WebSockets, and transcripts that become tickets."""

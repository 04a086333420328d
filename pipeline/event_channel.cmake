set(zcpipe_event_channel_sources src/event_channel.cc)

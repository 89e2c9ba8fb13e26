import socket

# 创建套接字
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

# 绑定地址和端口
s.bind(('localhost', 8080))

# 监听连接
s.listen(5)

# 接收连接
conn, addr = s.accept()

# 接收数据
data = conn.recv(1024)

# 发送数据
conn.send(b'Hello, world!')

# 关闭连接
conn.close()
s.close()
